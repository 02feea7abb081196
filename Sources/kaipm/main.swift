print("kaipm")
