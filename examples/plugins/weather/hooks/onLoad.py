def on_load(ctx):
    ctx.log(f"weather: units={ctx.config['units']} refresh every {ctx.config['refreshMinutes']} min")
