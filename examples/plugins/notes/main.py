"""notes: appends notes to /data/notes.jsonl, the plugin's private writable folder."""
import json
import os

DATA = os.environ.get("KAI_PLUGIN_DATA", "/data")


def path():
    return os.path.join(DATA, "notes.jsonl")


def add(text, config):
    notes = list_notes()
    if len(notes) >= config.get("maxNotes", 1000):
        raise ValueError("the notebook is full; raise maxNotes")
    with open(path(), "a", encoding="utf-8") as f:
        f.write(json.dumps({"text": text}) + "\n")
    return len(notes) + 1


def list_notes():
    try:
        with open(path(), encoding="utf-8") as f:
            return [json.loads(line)["text"] for line in f if line.strip()]
    except FileNotFoundError:
        return []
