import Dispatch
import Foundation

/// `map` over all cores for CPU-bound, independent work (parsing many small documents).
public enum ParallelMap {
    /// The results in input order. Falls back to a plain map for small inputs.
    public static func map<T: Sendable, R: Sendable>(_ items: [T], minimumPerWorker: Int = 64,
                                                     _ transform: @Sendable (T) -> R) -> [R] {
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, items.count / minimumPerWorker, 8)
        guard workers > 1 else { return items.map(transform) }
        let slots = Slots<R>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var index = worker
            while index < items.count {
                slots.set(index, transform(items[index]))
                index += workers
            }
        }
        return slots.values()
    }

    /// Result slots; each index is written once, by one worker.
    private final class Slots<R: Sendable>: @unchecked Sendable {
        // Safe: all access goes through `lock`, and values are read after every worker joined.
        private var storage: [R?]
        private let lock = NSLock()

        init(count: Int) { storage = Array(repeating: nil, count: count) }

        func set(_ index: Int, _ value: R) {
            lock.lock()
            storage[index] = value
            lock.unlock()
        }

        func values() -> [R] {
            lock.lock()
            defer { lock.unlock() }
            return storage.compactMap { $0 }
        }
    }
}
