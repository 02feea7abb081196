def on_load(ctx):
    """Called once when the plugin starts: check the config and say hello in the log."""
    ctx.log(f"my-plugin loaded with greeting {ctx.config.get('greeting')!r}")
