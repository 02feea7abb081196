import main


def on_load(ctx):
    ctx.log(f"notes: {len(main.list_notes())} note(s) in {main.path()}")
