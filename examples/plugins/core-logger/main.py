"""core-logger: keeps agent events in memory and echoes them to the console log."""
EVENTS = []


def log(level, message):
    EVENTS.append((level, message))
    print(f"[{level}] {message}", flush=True)
    return len(EVENTS)
