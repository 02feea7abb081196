import os

import main


def on_health(ctx):
    """kaipm asks after every start (and `health` asks any time): a failing check rolls an update back."""
    if not os.access(main.DATA, os.W_OK):
        return {"healthy": False, "reason": f"{main.DATA} is not writable"}
    return {"healthy": True, "notes": len(main.list_notes())}
