import main


def on_command(ctx, command, args):
    """Answers `kaipm run my-plugin <command> --arg k=v`."""
    if command == "greet":
        return {"message": main.greet(args.get("name", "world"), ctx.config)}
    if command == "stats":
        return {"greetings": main.STATE["greetings"]}
    raise ValueError(f"unknown command {command!r}; try greet or stats")
