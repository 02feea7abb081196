def on_load(ctx):
    ctx.log(f"core-logger ready at level {ctx.config['level']}")
