/** Headers of a worker's report handed straight to an engine, and of its answer (docs/nats.md#the-next-attempt-comes-back-with-the-answer). */
/**
 * A worker's report may say, in this header, the handlers it takes a next attempt of in the answer
 * (comma-separated): the slot its attempt frees. An engine that records the outcome and has the run's
 * next attempt for one of them on the report's queue answers with that attempt itself (its body, signed
 * as an offer is), marked recorded by REPORT_RECORDED_HEADER, instead of offering it to any worker:
 * two messages and a round trip less per step. Old engines ignore the header; old workers never send it.
 */
export const TAKES_NEXT_HEADER = 'Lf-Takes';
/** On an answer carrying the next attempt: the outcome is recorded (the body is the attempt, not a ReportAnswer). */
export const REPORT_RECORDED_HEADER = 'Lf-Recorded';
