// Prints, as one JSON object keyed by file name, what @kenjiuno/msgreader reads from each .msg:
// message class, subject, sender, recipients, attachments (names, sizes), body kinds.
'use strict';
const fs = require('fs');
const path = require('path');
const MsgReader = require('@kenjiuno/msgreader').default;

const result = {};
for (const file of process.argv.slice(2)) {
  try {
    const reader = new MsgReader(fs.readFileSync(file));
    const d = reader.getFileData();
    if (d.error) throw new Error(d.error);
    result[path.basename(file)] = {
      messageClass: d.messageClass || null,
      subject: d.subject === undefined ? null : d.subject,
      senderName: d.senderName || null,
      recipients: (d.recipients || []).map(r => ({ name: r.name || null, email: r.email || null, smtp: r.smtpAddress || null })),
      attachments: (d.attachments || []).map(a => ({
        fileName: a.fileName || null, size: a.contentLength === undefined ? null : a.contentLength, embedded: !!a.innerMsgContent,
      })),
      body: typeof d.body === 'string' ? d.body.length : null,
    };
  } catch (e) {
    result[path.basename(file)] = { error: String(e) };
  }
}
process.stdout.write(JSON.stringify(result));
