print("JSONSchemaBench: not written yet")
