// Times @kenjiuno/msgreader reading .msg files: `node msgreader-bench.js REPEAT FILE...`.
// Prints one JSON line: {files, bytes, passes, seconds}. Files are read into memory first;
// each pass parses every file and reads its fields and attachment list, as a converter would.
'use strict';
const fs = require('fs');
const path = require('path');
const MsgReader = require(path.join(__dirname, '../../tests/peers/node_modules/@kenjiuno/msgreader')).default;

const repeat = parseInt(process.argv[2], 10);
const buffers = process.argv.slice(3).map(f => fs.readFileSync(f));
const bytes = buffers.reduce((n, b) => n + b.length, 0);
let sink = 0;
const start = process.hrtime.bigint();
for (let r = 0; r < repeat; r++) {
  for (const b of buffers) {
    const reader = new MsgReader(b);
    const info = reader.getFileData();
    sink += (info.subject || '').length + (info.attachments || []).length;
    for (const a of info.attachments || []) {
      try { sink += reader.getAttachment(a).content.length; } catch (e) { /* embedded messages */ }
    }
  }
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(JSON.stringify({ files: buffers.length, bytes, passes: repeat, seconds, sink }) + '\n');
