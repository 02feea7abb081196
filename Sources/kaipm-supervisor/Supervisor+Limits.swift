import CKaipmSandboxShims
import Glibc
import KaipmSandbox

/// What the supervisor keeps between its reads of the sandbox's cgroup counters.
struct LimitWatch {
    /// The counters are read at most this often: two small files, once a second.
    static let intervalMilliseconds: Int64 = 1000

    /// When (monotonic ms) the counters are read next.
    var nextCheck: Int64 = 0
    /// OOM kills counted at the last read, and how many of them the sandbox outlived (a later read
    /// found it still running): those are limit events; a kill not outlived is the exit's.
    var oomKillsSeen = 0
    var oomKillsSurvived = 0
}

extension Supervisor {
    /// When the loop must wake up to read the counters: only while the sandbox runs, with a
    /// cgroup that has one to read.
    var limitCheckDeadline: Int64? {
        guard case .running = phase, sandboxEnded == nil, let cgroup,
              cgroup.directories["pids"] != nil || cgroup.directories["memory"] != nil else { return nil }
        return limitWatch.nextCheck
    }

    /// Reads the pids and memory counters when due and records in the status what grew: a fork
    /// refused at pids.max, or an OOM kill the sandbox outlived.
    func checkLimits() {
        let now = Supervisor.now()
        guard let deadline = limitCheckDeadline, deadline <= now, let cgroup else { return }
        limitWatch.nextCheck = now + LimitWatch.intervalMilliseconds
        let time = kaipm_wall_ms()
        var changed = notePidsLimit(cgroup, at: time)
        if let kills = cgroup.oomKills().map({ $0 - oomKillsAtStart }) {
            // Still running a read after the kills seen then: the sandbox outlived them.
            if limitWatch.oomKillsSeen > limitWatch.oomKillsSurvived {
                limitWatch.oomKillsSurvived = limitWatch.oomKillsSeen
                let survived = limitWatch.oomKillsSurvived
                changed = status.noteLimit(SupervisorStatus.LimitEvent.memory, count: survived, at: time, message:
                    "the kernel's OOM killer killed \(survived) process(es) of the sandbox at its memory quota of "
                        + "\(spec.resources.memoryBytes) bytes; the sandbox lived on") || changed
            }
            limitWatch.oomKillsSeen = max(kills, limitWatch.oomKillsSurvived)
        }
        if changed {
            log.event("limits: " + status.limitEvents.map { "\($0.kind) ×\($0.count)" }.joined(separator: ", "))
            writeStatus()
        }
    }

    /// Records a grown pids.events `max` counter in the status (not written); whether it grew.
    /// Also read once when the sandbox ends, so that a fork refused in its last second is counted.
    @discardableResult
    func notePidsLimit(_ cgroup: SandboxCgroup, at time: Int64) -> Bool {
        guard let hits = cgroup.pidsLimitHits() else { return false }
        return status.noteLimit(SupervisorStatus.LimitEvent.pids, count: hits, at: time, message:
            "a fork was refused \(hits) time(s) at the sandbox's process limit (pids.max \(spec.resources.pids))")
    }
}
