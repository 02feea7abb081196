extension SupervisorStatus {
    /// A quota the sandbox ran into and lived on, as its cgroup's counters show it: the supervisor
    /// reads them about once a second while the sandbox runs and records what grew.
    ///
    /// The counters count from the supervisor's start (`startedAtMilliseconds`), so a reader that
    /// remembers the last count it saw of a session knows what is new (the reconciler's audit).
    public struct LimitEvent: Sendable, Equatable {
        /// `pids`: a fork was refused at the process limit (the pids cgroup's `pids.events` `max`).
        public static let pids = "pids"
        /// `memory`: the OOM killer killed a process of the sandbox, which lived on (an OOM kill
        /// that ends the sandbox is its exit, `MemoryLimit`, instead).
        public static let memory = "memory"

        public var kind: String
        /// How often, since the supervisor started.
        public var count: Int
        /// When the supervisor first and last saw the counter grow (milliseconds since 1970).
        public var firstAtMilliseconds: Int64
        public var lastAtMilliseconds: Int64
        public var message: String

        public init(kind: String, count: Int, firstAtMilliseconds: Int64, lastAtMilliseconds: Int64, message: String) {
            self.kind = kind
            self.count = count
            self.firstAtMilliseconds = firstAtMilliseconds
            self.lastAtMilliseconds = lastAtMilliseconds
            self.message = message
        }

        public var json: JSON {
            .object(["kind": .string(kind), "count": .int(count), "firstAtMs": .int(firstAtMilliseconds),
                     "lastAtMs": .int(lastAtMilliseconds), "message": .string(message)])
        }

        /// Reads one entry of `limitEvents`; nil when it lacks a kind or a count.
        public init?(json: JSON) {
            guard let kind = json["kind"]?.stringValue, let count = json["count"]?.intValue else { return nil }
            self.init(kind: kind, count: count, firstAtMilliseconds: Int64(json["firstAtMs"]?.intValue ?? 0),
                      lastAtMilliseconds: Int64(json["lastAtMs"]?.intValue ?? 0), message: json["message"]?.stringValue ?? "")
        }
    }

    /// The limit event of `kind`, if the sandbox ran into it.
    public func limitEvent(_ kind: String) -> LimitEvent? { limitEvents.first { $0.kind == kind } }

    /// Records that the `kind` counter reached `count` at `time`: a new entry, or the existing one
    /// counted on. Returns whether anything changed.
    @discardableResult
    public mutating func noteLimit(_ kind: String, count: Int, at time: Int64, message: String) -> Bool {
        if let index = limitEvents.firstIndex(where: { $0.kind == kind }) {
            guard count > limitEvents[index].count else { return false }
            limitEvents[index].count = count
            limitEvents[index].lastAtMilliseconds = time
            limitEvents[index].message = message
            return true
        }
        guard count > 0 else { return false }
        limitEvents.append(LimitEvent(kind: kind, count: count, firstAtMilliseconds: time, lastAtMilliseconds: time, message: message))
        return true
    }
}
