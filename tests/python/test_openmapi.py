"""The Python bindings (module openmapi) as a Python program uses them: a mailbox made and filled
with the openmapi command, read through the module and compared with the corpus's peer-tool
values (@kenjiuno/msgreader); a message written through the module and read back with
`openmapi message show`; a PST file; a profile session; the errors."""
import datetime
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import unittest

import openmapi

BIN = os.environ["OPENMAPI_BIN"]
CORPUS = pathlib.Path(os.environ["OPENMAPI_SHARED_DIR"]) / "corpus"


class Mailbox(unittest.TestCase):
    def setUp(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="openmapi-py-"))
        os.environ["XDG_CONFIG_HOME"] = str(self.dir / "conf")
        self.cli("mailbox", "create", "alice", "--display-name", "Alice", "--email", "alice@example.com")
        self.cli("import", "message", "-m", "alice", str(CORPUS / "msg" / "EmailWithAttachments.msg"))
        self.path = str(self.dir / "data" / "mailboxes" / "alice.sqlite")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def cli(self, *args):
        # The sanitizer build preloads its runtime for Python; the openmapi binary has its own.
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        r = subprocess.run([BIN, "--data-dir", str(self.dir / "data"), *args], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_reads_a_message_as_msgreader_sees_it(self):
        expected = json.loads((CORPUS / "expected" / "msg" / "EmailWithAttachments.msg.msgreader.json").read_text())
        store = openmapi.open_store(self.path)
        self.assertEqual(store.display_name, "Alice")
        inbox = store.inbox
        self.assertEqual(inbox.name, "Inbox")
        self.assertEqual(len(inbox), 1)
        (msg,) = inbox.messages()
        self.assertEqual(msg.subject, expected["subject"])
        self.assertEqual(msg["PidTagMessageClass"], expected["messageClass"])
        self.assertEqual(msg["PidTagSenderName"], expected["senderName"])
        self.assertEqual([r["PidTagDisplayName"] for r in msg.recipients], [r["name"] for r in expected["recipients"]])
        atts = msg.attachments
        self.assertEqual([a["PidTagAttachLongFilename"] for a in atts], [a["fileName"] for a in expected["attachments"]])
        data = msg.attachment_data(atts[0]["PidTagAttachNumber"])
        self.assertEqual(len(data), expected["attachments"][0]["contentLength"])
        self.assertEqual(data[:2], b"\xff\xd8")  # a JPEG
        self.assertIsInstance(msg["PidTagCreationTime"], datetime.datetime)
        rows = inbox.table(columns=["PidTagSubject", "PidTagHasAttachments"], sort=[("PidTagSubject", False)])
        self.assertEqual(rows, [{"PidTagSubject": expected["subject"], "PidTagHasAttachments": True}])
        self.assertEqual(msg.entry_id, store.open_entry(msg.entry_id).entry_id)

    def test_writes_a_message_the_command_line_reads_back(self):
        store = openmapi.open_store(self.path)
        folder = store.root.create_folder("From Python")
        self.assertEqual(store.root.create_folder("From Python", open_if_exists=True).id, folder.id)
        msg = folder.create_message()
        msg["PidTagSubject"] = "Gr\u00fc\u00dfe \u2603"
        msg["PidTagMessageClass"] = "IPM.Note"
        msg["PidNameKeywords"] = ["red", "blue"]  # a named property, mapped on first use
        msg["PidTagClientSubmitTime"] = datetime.datetime(2026, 12, 2, 8, 30, tzinfo=datetime.timezone.utc)
        msg.add_recipient("bob@example.org", "Bob")
        number = msg.attach("data.bin", bytes(range(256)) * 1000)
        msg.save()
        self.assertEqual(msg.attachment_data(number), bytes(range(256)) * 1000)
        rows = json.loads(self.cli("message", "ls", "-m", "alice", "-f", "From Python", "--json"))["rows"]
        self.assertEqual(len(rows), 1)
        shown = self.cli("message", "show", "-m", "alice", str(rows[0]["id"]), "--json")
        for text in ["Gr\u00fc\u00dfe \u2603", "bob@example.org", "data.bin", "red", "2026-12-02T08:30:00"]:
            self.assertTrue(text in shown, text)
        (att,) = json.loads(shown)["attachments"]
        data = next(p["value"] for p in att["properties"] if p["name"] == "PidTagAttachDataBinary")
        self.assertTrue(bytes.fromhex(data) == bytes(range(256)) * 1000)
        again = store.open_entry(msg.entry_id)
        self.assertEqual(again["PidNameKeywords"], ["red", "blue"])
        self.assertEqual(again["PidTagClientSubmitTime"], datetime.datetime(2026, 12, 2, 8, 30, tzinfo=datetime.timezone.utc))

    def test_a_pst_file_and_a_profile_session(self):
        pst = openmapi.open_store(str(CORPUS / "pst" / "dist-list.pst"))
        self.assertTrue(any(f.name for f in pst.root.subfolders()))
        with self.assertRaises(openmapi.MapiError) as e:
            pst.root.create_folder("x")  # a PST is read-only here
        self.assertEqual(e.exception.code, "MAPI_E_NO_ACCESS")
        self.cli("profile", "create", "work", "--mailbox", "alice")
        s = openmapi.logon("work")
        self.assertEqual(s.profile, "work")
        self.assertEqual(s.default_store.display_name, "Alice")
        self.assertEqual(s.resolve_name("someone@example.net")["email_address"], "someone@example.net")
        s.logoff()
        with self.assertRaises(openmapi.MapiError) as e:
            s.default_store.inbox
        self.assertEqual(e.exception.code, "MAPI_E_END_OF_SESSION")

    def test_errors_are_mapi_errors(self):
        with self.assertRaises(openmapi.MapiError) as e:
            openmapi.open_store(str(self.dir / "missing.sqlite"))
        self.assertEqual(e.exception.code, "MAPI_E_NOT_FOUND")
        self.assertEqual(e.exception.scode, 0x8004010F)
        store = openmapi.open_store(self.path)
        with self.assertRaises(openmapi.MapiError) as e:
            store.inbox["PidTagNoSuchProperty"]
        self.assertEqual(e.exception.code, "MAPI_E_NOT_FOUND")
        with self.assertRaises(KeyError):
            store.inbox["PidTagBody"]
        with self.assertRaises(openmapi.MapiError) as e:
            store.open_entry(b"\x00" * 46)
        self.assertEqual(e.exception.code, "MAPI_E_INVALID_ENTRYID")
        with self.assertRaises(openmapi.MapiError):
            openmapi.logon("nonesuch")
        self.assertEqual(openmapi.tag("PidTagSubject"), 0x0037001F)


if __name__ == "__main__":
    unittest.main()
