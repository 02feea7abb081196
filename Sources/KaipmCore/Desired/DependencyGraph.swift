/// Ordering and cycle detection over `dependsOn`.
public enum DependencyGraph {
    /// The elementary cycles found by a depth-first search, each rotated to start at its smallest id.
    public static func cycles(in edges: [String: [String]]) -> [[String]] {
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var stack: [String] = []
        var found: Set<[String]> = []
        func visit(_ node: String) {
            state[node] = 1
            stack.append(node)
            for next in edges[node] ?? [] where edges[next] != nil {
                if state[next] == 1, let start = stack.lastIndex(of: next) {
                    let cycle = Array(stack[start...])
                    if let smallest = cycle.min(), let pivot = cycle.firstIndex(of: smallest) {
                        found.insert(Array(cycle[pivot...] + cycle[..<pivot]))
                    }
                } else if state[next] == nil {
                    visit(next)
                }
            }
            stack.removeLast()
            state[node] = 2
        }
        for node in edges.keys.sorted() where state[node] == nil { visit(node) }
        return found.sorted { $0.joined(separator: ",") < $1.joined(separator: ",") }
    }

    /// A topological order (dependencies first), ties broken by id so plans are stable.
    /// Edges to unknown nodes are ignored; nodes in a cycle come last, by id.
    public static func order(_ edges: [String: [String]]) -> [String] {
        var indegree: [String: Int] = [:]
        var dependents: [String: [String]] = [:]
        for (node, deps) in edges {
            indegree[node, default: 0] += 0
            for dep in Set(deps) where edges[dep] != nil {
                indegree[node, default: 0] += 1
                dependents[dep, default: []].append(node)
            }
        }
        var ready = indegree.filter { $0.value == 0 }.map(\.key).sorted(by: >)
        var result: [String] = []
        while let node = ready.popLast() {
            result.append(node)
            for dependent in dependents[node] ?? [] {
                indegree[dependent, default: 0] -= 1
                if indegree[dependent] == 0 {
                    ready.append(dependent)
                    ready.sort(by: >)
                }
            }
        }
        let rest = Set(edges.keys).subtracting(result).sorted()
        return result + rest
    }
}
