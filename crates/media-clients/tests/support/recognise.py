#!/usr/bin/env python3
"""Transcribes 16 kHz mono 16-bit WAV files with PocketSphinx (the PyPI
package `pocketsphinx`, with the US English acoustic model, language model
and dictionary it ships): an outside recogniser for the local provider's
speech (tests/local_speech.rs).

Usage: recognise.py FILE.wav...  Prints one JSON object per file, in order:
{"file": ..., "text": ...}. Exits 2, saying why, when pocketsphinx cannot be
imported.
"""
import json
import sys
import wave

try:
    from pocketsphinx import Decoder
except ImportError as e:  # the test skips (or fails, when speech is required)
    print(f"pocketsphinx is not installed: {e}", file=sys.stderr)
    sys.exit(2)


def main(paths):
    # The default model: en-us acoustic model, en-us.lm.bin, cmudict-en-us.
    decoder = Decoder(samprate=16000, logfn="/dev/null")
    for path in paths:
        with wave.open(path) as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (16000, 1, 2):
                sys.exit(f"{path}: not 16 kHz mono 16-bit")
            audio = w.readframes(w.getnframes())
        decoder.start_utt()
        decoder.process_raw(audio, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        print(json.dumps({"file": path, "text": hyp.hypstr if hyp else ""}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
