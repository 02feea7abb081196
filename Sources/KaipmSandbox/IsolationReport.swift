/// Which of a sandbox's limits are in force on this host, and by what; the rest, with why not.
///
/// The supervisor writes it into the status file; a future `kaipm doctor` and `kaipm status`
/// print it. A limit that is not enforced refuses the start unless the spec allows weaker isolation;
/// a waived one (what an unsandboxed core plugin opted out of) never does.
public struct IsolationReport: Sendable, Equatable {
    /// One limit.
    public struct Item: Sendable, Equatable {
        /// `memory`, `cpu`, `pids`, `identity`, `rlimit.as`, `network`, …
        public var limit: String
        public var enforced: Bool
        /// What enforces it (`cgroup v1 memory.limit_in_bytes=67108864`), or why nothing does.
        public var detail: String
        /// Not in force because the desired state opted out of it explicitly (`sandbox: false`
        /// for a preloaded core plugin), not because the host cannot: never refuses a start.
        public var waived: Bool

        public init(limit: String, enforced: Bool, detail: String, waived: Bool = false) {
            self.limit = limit
            self.enforced = enforced
            self.detail = detail
            self.waived = waived
        }
    }

    public var items: [Item]

    public init(items: [Item] = []) {
        self.items = items
    }

    /// The items not enforced that were not waived: what refuses a start on a weaker host.
    public var notEnforced: [Item] { items.filter { !$0.enforced && !$0.waived } }

    /// Whether the plugin runs without bubblewrap (its namespaces were waived).
    public var isUnsandboxed: Bool { self["namespaces"]?.waived == true }

    /// The item for a limit.
    public subscript(limit: String) -> Item? { items.first { $0.limit == limit } }

    public mutating func add(_ limit: String, enforced: Bool, _ detail: String) {
        items.append(Item(limit: limit, enforced: enforced, detail: detail))
    }

    /// Records a limit the desired state opted out of.
    public mutating func waive(_ limit: String, _ detail: String) {
        items.append(Item(limit: limit, enforced: false, detail: detail, waived: true))
    }

    public var json: JSON {
        .array(items.map { item in
            // `waived` only where it is true: reports of sandboxed plugins (and kaipm doctor's) are unchanged.
            .object(["limit": .string(item.limit), "enforced": .bool(item.enforced), "detail": .string(item.detail),
                     "waived": item.waived ? .bool(true) : nil])
        })
    }

    public init(json: JSON) {
        items = (json.arrayValue ?? []).compactMap { entry in
            guard let limit = entry["limit"]?.stringValue, let enforced = entry["enforced"]?.boolValue else { return nil }
            return Item(limit: limit, enforced: enforced, detail: entry["detail"]?.stringValue ?? "",
                        waived: entry["waived"]?.boolValue ?? false)
        }
    }
}
