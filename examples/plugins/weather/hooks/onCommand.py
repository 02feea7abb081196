import main


def on_command(ctx, command, args):
    if command == "forecast":
        return main.forecast(args.get("city", "Lisbon"), ctx.config)
    raise ValueError(f"unknown command {command!r}; try forecast")
