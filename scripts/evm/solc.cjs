// What the contract compilers (compile-aggregator.cjs, compile-vault.cjs)
// share: one Solidity unit compiled with solc (npm), optimizer on, to ABI
// and creation bytecode, exiting with the compiler's errors; and the
// artifact written atomically.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

// The contracts of `unit` (source text `content`), imports read by
// `readImport(name)` ({ contents } or { error }), as
// { Name: { abi, bytecode: '0x...' } }. Exits 1 on a compile error.
function compile(unit, content, readImport) {
  const input = {
    language: 'Solidity',
    sources: { [unit]: { content } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: readImport }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    console.error(errors.map((e) => e.formattedMessage).join('\n'));
    process.exit(1);
  }
  const contracts = {};
  for (const [name, contract] of Object.entries(output.contracts[unit])) {
    contracts[name] = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
  }
  return contracts;
}

// Write `artifact` as JSON to `out`: a temporary file renamed into place.
function writeArtifact(out, artifact) {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(`${out}.tmp`, JSON.stringify(artifact));
  fs.renameSync(`${out}.tmp`, out);
}

module.exports = { compile, compiler: `solc ${solc.version()}`, writeArtifact };
