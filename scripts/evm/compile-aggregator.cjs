// Compiles Chainlink's MockV3Aggregator (from the @chainlink/contracts npm
// package) with solc (npm) into the JSON artifact the live-chain tests
// deploy as their price feed. The artifact names the compiler and source.
// Usage: node scripts/evm/compile-aggregator.cjs OUT.json
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const out = process.argv[2];
if (!out) {
  console.error('usage: compile-aggregator.cjs OUT.json');
  process.exit(2);
}
const root = path.join(path.dirname(require.resolve('@chainlink/contracts/package.json')), 'src', 'v0.8');
const unit = 'tests/MockV3Aggregator.sol';
const input = {
  language: 'Solidity',
  sources: { [unit]: { content: fs.readFileSync(path.join(root, unit), 'utf8') } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const readImport = (name) => {
  try {
    return { contents: fs.readFileSync(path.join(root, name), 'utf8') };
  } catch (error) {
    return { error: `${name}: ${error.message}` };
  }
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: readImport }));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
if (errors.length > 0) {
  console.error(errors.map((e) => e.formattedMessage).join('\n'));
  process.exit(1);
}
const contract = output.contracts[unit].MockV3Aggregator;
const artifact = {
  contractName: 'MockV3Aggregator',
  source: `@chainlink/contracts/src/v0.8/${unit}`,
  compiler: `solc ${solc.version()}`,
  abi: contract.abi,
  bytecode: `0x${contract.evm.bytecode.object}`,
};
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(`${out}.tmp`, JSON.stringify(artifact));
fs.renameSync(`${out}.tmp`, out);
