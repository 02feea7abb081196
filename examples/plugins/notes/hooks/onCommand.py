import main


def on_command(ctx, command, args):
    if command == "add":
        return {"count": main.add(args["text"], ctx.config)}
    if command == "list":
        return {"notes": main.list_notes()}
    if command == "count":
        return {"count": len(main.list_notes())}
    raise ValueError(f"unknown command {command!r}; try add, list or count")
