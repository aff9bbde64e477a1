// Compiles scripts/evm/VaultUnderTest.sol (our test contracts: a mintable
// ERC-20 `TestAsset` and `VaultUnderTest`, OpenZeppelin's ERC4626 made
// concrete) with solc (npm) against @openzeppelin/contracts from
// node_modules, into the JSON artifact the ERC-4626 differential test
// deploys: per contract its ABI and creation bytecode, plus the compiler,
// the OpenZeppelin version and the source.
// Usage: node scripts/evm/compile-vault.cjs OUT.json
'use strict';
const fs = require('fs');
const path = require('path');
const { compile, compiler, writeArtifact } = require('./solc.cjs');

const out = process.argv[2];
if (!out) {
  console.error('usage: compile-vault.cjs OUT.json');
  process.exit(2);
}
const unit = 'VaultUnderTest.sol';
const source = fs.readFileSync(path.join(__dirname, unit), 'utf8');
const ozPackage = require.resolve('@openzeppelin/contracts/package.json');
const ozRoot = path.dirname(ozPackage);
const ozVersion = JSON.parse(fs.readFileSync(ozPackage, 'utf8')).version;
// Only OpenZeppelin is imported: `@openzeppelin/contracts/...` (the
// library's own relative imports arrive here already resolved).
const prefix = '@openzeppelin/contracts/';
const readImport = (name) => {
  if (!name.startsWith(prefix)) {
    return { error: `${name}: only ${prefix}... imports are resolved` };
  }
  try {
    return { contents: fs.readFileSync(path.join(ozRoot, name.slice(prefix.length)), 'utf8') };
  } catch (error) {
    return { error: `${name}: ${error.message}` };
  }
};
const compiled = compile(unit, source, readImport);
const contracts = {};
for (const name of ['TestAsset', 'VaultUnderTest']) {
  contracts[name] = compiled[name];
}
writeArtifact(out, {
  source: `scripts/evm/${unit}`,
  sourceCode: source,
  openzeppelin: `@openzeppelin/contracts ${ozVersion}`,
  compiler,
  contracts,
});
