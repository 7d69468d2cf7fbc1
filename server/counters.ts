/** What the relay did with binary frames; totals only, on /metrics (metrics.ts). */
export interface MediaCounters {
  relayed: number;
  droppedUnknownCall: number;
  droppedNotMember: number;
  droppedBackpressure: number;
  droppedRate: number;
  droppedMalformed: number;
}

export function newMediaCounters(): MediaCounters {
  return { relayed: 0, droppedUnknownCall: 0, droppedNotMember: 0, droppedBackpressure: 0, droppedRate: 0, droppedMalformed: 0 };
}
