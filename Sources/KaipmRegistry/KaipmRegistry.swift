import KaipmCore
