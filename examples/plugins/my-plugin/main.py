"""my-plugin: the reference plugin of the kAI plugin schema.

The kaipm runtime imports this module and the hooks its manifest declares; plugin code is
ordinary Python with no kaipm imports.
"""

STATE = {"greetings": 0}


def greet(name, config):
    STATE["greetings"] += 1
    return f"{config.get('greeting', 'Hello')}, {name}!"
