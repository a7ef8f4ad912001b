/**
 * Every event with its time and the state it led to, a page at a time (the page holding the event shown: the newest
 * while live); the slider picks the event to show the run after, among all of them.
 */
import { useEffect, useRef } from 'preact/hooks';
import { Card, clickable, Status } from '../components/common.js';
import { Pager, usePage } from '../components/pager.js';
import { time } from '../format.js';
import { summarize, type PageEvent } from '../run-history.js';

export function Timeline(props: {
  events: PageEvent[];
  lastSeq: number;
  atSeq: number | null;
  onSeek: (seq: number) => void;
}) {
  const at = props.atSeq ?? props.lastSeq;
  const current = useRef<HTMLLIElement>(null);
  const paging = usePage(props.events.length, 'last');
  // The slider (or "Back to live") moves the list to the page of the event it shows; paging by hand moves only the list.
  useEffect(() => {
    if (props.atSeq === null) return paging.show(null);
    const i = props.events.findIndex((e) => e.seq === props.atSeq);
    if (i >= 0 && (i < paging.from || i >= paging.to)) paging.show(paging.pageOf(i));
  }, [props.atSeq]);
  // Keep the chosen event in view inside the timeline's own scroll box (not the window's: the page must not jump).
  useEffect(() => {
    const li = current.current;
    const box = li?.closest('.card-body');
    if (props.atSeq === null || !li || !(box instanceof HTMLElement)) return;
    const top = li.offsetTop - box.offsetTop;
    if (top < box.scrollTop + 40 || top > box.scrollTop + box.clientHeight - 40)
      box.scrollTop = top - box.clientHeight / 2;
  }, [props.atSeq, paging.page]);
  return (
    <Card title={`Timeline (${props.events.length} events)`} class="timeline-card">
      <div class="slider-row">
        <span class="muted">1</span>
        <input
          type="range"
          class="slider"
          aria-label="show the run after event"
          min={1}
          max={Math.max(1, props.lastSeq)}
          value={at}
          onInput={(e) => props.onSeek(Number(e.currentTarget.value))}
        />
        <span class="muted">{props.lastSeq}</span>
        <span class="seq-at" data-seq={at}>
          after event {at}
        </span>
      </div>
      <Pager what="events" total={props.events.length} paging={paging} />
      <ol class="timeline">
        {props.events.slice(paging.from, paging.to).map((e) => (
          <li
            key={e.seq}
            ref={e.seq === at ? current : undefined}
            class={`${e.seq > at ? 'future' : ''}${e.seq === at ? ' current' : ''}`}
            data-seq={e.seq}
            {...clickable(() => props.onSeek(e.seq))}
          >
            <span class="seq">{e.seq}</span>
            <span class="when small" title={e.time}>
              {time(e.time)}
            </span>
            <span class="type mono">{e.type}</span>
            <span class="what">{summarize(e)}</span>
            <Status status={e.state?.status} />
          </li>
        ))}
      </ol>
    </Card>
  );
}
