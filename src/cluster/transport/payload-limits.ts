/** How large an outcome and a report may be on a NATS server, from its max_payload (the connection's INFO). */

/**
 * The most bytes of output an outcome may carry on a server of `maxPayload`: half of it, so that the report and the
 * commit that records it (its event's other fields, the run's other events) fit. Over it, no report could be delivered:
 * the attempt would be redelivered and run again for as long as the delivery policy allows, the run left RUNNING.
 */
export function maxOutputBytes(maxPayload: number | undefined): number {
  return Math.floor((maxPayload && maxPayload > 0 ? maxPayload : 1024 * 1024) / 2);
}

/**
 * The largest report (an outcome and its envelope: ids, token, error text) an engine takes: the output limit and
 * 64 KiB. LF_INPUTS refuses larger messages itself (max_msg_size), and a direct report over it is refused unread,
 * so a worker sending 7 MB reports cannot make engines parse them (a one-task run went from 3.6 s to 8.3 s).
 */
export function maxReportBytes(maxPayload: number | undefined): number {
  return maxOutputBytes(maxPayload) + 64 * 1024;
}
