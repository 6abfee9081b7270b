#!/usr/bin/env python3
"""Builds one benchmark message: a short text part plus an AES-256 encrypted zip (made by the real
7-Zip over random bytes, so nothing compresses) as a base64 attachment, sized so the message is about
--wire-bytes on the SMTP wire. Written with LF line ends for `smtp-source -F`, which sends each line
with CRLF and dot-stuffs. Prints the wire size.

Usage: make-payload.py --out FILE --wire-bytes N --workdir DIR [--case 612345678] [--from A] [--to B]
"""
import argparse
import os
import shutil
import subprocess
from email.message import EmailMessage
from email.policy import default

def seven_zip():
    for name in ("7z", "7zz", "7za"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("make-payload: 7-Zip (7z/7zz) not found; apt-get install 7zip")

def make_zip(workdir, data_bytes, password):
    data = os.path.join(workdir, "diagnostics.bin")
    archive = os.path.join(workdir, "diagnostics.zip")
    with open(data, "wb") as f:
        f.write(os.urandom(data_bytes))
    if os.path.exists(archive):
        os.remove(archive)
    subprocess.run([seven_zip(), "a", "-tzip", "-mem=AES256", "-mx=1", f"-p{password}", archive, data],
                   check=True, stdout=subprocess.DEVNULL)
    os.remove(data)
    with open(archive, "rb") as f:
        zipped = f.read()
    os.remove(archive)
    return zipped

def build(args, zipped):
    msg = EmailMessage(policy=default)
    msg["From"] = args.sender
    msg["To"] = args.to
    msg["Subject"] = f"Case {args.case}"
    msg.set_content("Diagnostics attached, password sent separately.\n")
    msg.add_attachment(zipped, maintype="application", subtype="zip", filename="diagnostics.zip")
    return msg.as_bytes(policy=default.clone(linesep="\n"))

def wire_size(text):
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    stuffed = sum(1 for line in lines if line.startswith(b"."))
    return sum(len(line) + 2 for line in lines) + stuffed

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--wire-bytes", type=int, required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--case", default="612345678")
    p.add_argument("--from", dest="sender", default="customer@example.com")
    p.add_argument("--to", default="attach@bench.test")
    p.add_argument("--password", default="bench-" + os.urandom(6).hex())
    args = p.parse_args()
    # base64 with CRLF every 76 chars: about 1.37 wire bytes per zip byte; correct once after measuring
    guess = max(64, int((args.wire_bytes - 1200) / 1.37))
    for _ in range(3):
        text = build(args, make_zip(args.workdir, guess, args.password))
        size = wire_size(text)
        if abs(size - args.wire_bytes) <= max(256, args.wire_bytes // 500):
            break
        guess = max(64, guess + int((args.wire_bytes - size) / 1.37))
    with open(args.out, "wb") as f:
        f.write(text)
    print(size)

if __name__ == "__main__":
    main()
