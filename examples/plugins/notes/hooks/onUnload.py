def on_unload(ctx):
    ctx.log("notes: closing")
