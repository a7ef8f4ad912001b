/**
 * "Fork from here" in a run's time travel (docs/runs.md#forking-a-run): a new run whose history is this one's up to the
 * event the page shows, with the inputs typed here changed; one POST (the run API's fork, as the signed-in person),
 * then the page opens the new run. The only action time travel offers: it acts on the past point, not on now.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Button, ErrorBox, Input, useAction } from '../components/common.js';
import { parseJson } from '../format.js';
import { navigate } from '../router.js';

export function ForkHere(props: { runId: string; atSeq: number }) {
  const { busy, error, setError, run } = useAction();
  const [input, setInput] = useState('');
  const fork = () => {
    const changed = input.trim() ? parseJson(input, 'inputs: not JSON (write an object, e.g. {"amount": 7})') : {};
    if (changed instanceof Error) return setError(changed);
    run(async () => {
      const r = await api.post<{ runId: string }>(`/api/runs/${encodeURIComponent(props.runId)}/fork`, {
        at: props.atSeq,
        input: changed,
      });
      navigate(`/runs/${encodeURIComponent(r.runId)}`);
      return `forked as run ${r.runId}`;
    });
  };
  return (
    <span class="fork-here" data-fork-here>
      <Input name="fork-input" size={24} placeholder="inputs changed (JSON, optional)" value={input} set={setInput} />
      <Button label="Fork from here" class="primary" disabled={busy} onClick={fork} />
      <ErrorBox error={error} />
    </span>
  );
}
