def on_unload(ctx):
    """Called before the plugin stops."""
    ctx.log("my-plugin unloading")
