"""weather: asks a forecast API. Without a network grant, connecting fails in the sandbox."""
import json
import socket
import urllib.request


def forecast(city, config):
    url = f"https://{config['endpoint']}/v1/forecast?city={city}&units={config['units']}"
    try:
        with urllib.request.urlopen(url, timeout=config.get("timeoutSeconds", 5)) as response:
            return json.load(response)
    except (OSError, socket.error) as error:
        return {"city": city, "error": f"forecast unavailable: {error}"}
