/** The counters a ClusterEngine keeps (`engine.stats`), read by tests and operators (metrics); all zero at first. */
export function engineStats() {
  return {
    inputs: 0,
    forged: 0,
    /** Outcomes workers handed straight to this engine (lf.reports) that it recorded: not taken from LF_INPUTS. */
    directReports: 0,
    /** Attempts offered straight to workers; taken by one (or maybe: no answer); queued later because their worker went quiet. */
    offered: 0,
    handedOver: 0,
    carried: 0,
    requeued: 0,
    /** Attempts this engine ran itself (`engine --handlers`, local-attempts.ts): neither offered nor queued. */
    ranHere: 0,
    restarts: 0,
    commits: 0,
    conflicts: 0,
    stale: 0,
    dispatched: 0,
    timers: 0,
    approvals: 0,
    signals: 0,
    controls: 0,
    starts: 0,
    deploys: 0,
    limits: 0,
    refused: 0,
    triggered: 0,
    deadLetters: 0,
    /** Deliveries whose processing failed and that were put back to be tried again (with a growing delay). */
    retries: 0,
    /** Refusals past their sender's dead-letter rate (letter-rate.ts): refused and acked, no letter kept; reports, and decisions naming no HUMAN task. */
    unletteredReports: 0,
    unletteredDecisions: 0,
    snapshotsWritten: 0,
    snapshotLoads: 0,
    snapshotsRefused: 0,
    /** Child runs started (SUB_WORKFLOW attempts, failure workflows). */
    childRuns: 0,
    /** Runs this engine started for schedule slots it claimed. */
    scheduled: 0,
    /** Schedule ticks done (each fires what is due at that moment). */
    scheduleTicks: 0,
  };
}

export type EngineStats = ReturnType<typeof engineStats>;
