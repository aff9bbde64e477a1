// Compiles Chainlink's MockV3Aggregator (from the @chainlink/contracts npm
// package) with solc (npm) into the JSON artifact the live-chain tests
// deploy as their price feed. The artifact names the compiler and source.
// Usage: node scripts/evm/compile-aggregator.cjs OUT.json
'use strict';
const fs = require('fs');
const path = require('path');
const { compile, compiler, writeArtifact } = require('./solc.cjs');

const out = process.argv[2];
if (!out) {
  console.error('usage: compile-aggregator.cjs OUT.json');
  process.exit(2);
}
const root = path.join(path.dirname(require.resolve('@chainlink/contracts/package.json')), 'src', 'v0.8');
const unit = 'tests/MockV3Aggregator.sol';
const readImport = (name) => {
  try {
    return { contents: fs.readFileSync(path.join(root, name), 'utf8') };
  } catch (error) {
    return { error: `${name}: ${error.message}` };
  }
};
const contract = compile(unit, fs.readFileSync(path.join(root, unit), 'utf8'), readImport).MockV3Aggregator;
writeArtifact(out, {
  contractName: 'MockV3Aggregator',
  source: `@chainlink/contracts/src/v0.8/${unit}`,
  compiler,
  abi: contract.abi,
  bytecode: contract.bytecode,
});
