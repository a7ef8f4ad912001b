/**
 * `--station <name>` of `worker` and `agent` (docs/nats.md#stations): the station's queue, station-<name>, which its
 * tasks (`station: <name>`) wait on.
 */
import { UsageError } from '../../errors/index.js';
import { STATION_NAME, stationQueue } from '../../definition/index.js';

/** The queue served: --queue, or --station's (station-<name>); not both. */
export function workerQueue(opts: { queue?: string; station?: string }): string | undefined {
  if (opts.station === undefined) return opts.queue;
  if (opts.queue !== undefined)
    throw new UsageError(
      `--station ${opts.station} serves queue ${stationQueue(opts.station)}: give --station or --queue, not both`,
      { station: opts.station, queue: opts.queue },
    );
  if (!STATION_NAME.test(opts.station))
    throw new UsageError(
      `--station ${JSON.stringify(opts.station)}: a station name is 1 to 56 letters, digits, _ and -`,
      { station: opts.station },
    );
  return stationQueue(opts.station);
}
