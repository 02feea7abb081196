import main


def on_command(ctx, command, args):
    if command == "log":
        return {"count": main.log(args.get("level", "info"), args.get("message", ""))}
    raise ValueError(f"unknown command {command!r}; try log")
