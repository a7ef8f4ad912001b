/**
 * The editor's door: its code (CodeMirror and the editor page) is a chunk of its own, fetched the first time an editor
 * page opens, so the dashboard's first page does not carry it.
 */
import { useEffect, useState } from 'preact/hooks';
import type { FunctionComponent } from 'preact';
import { ErrorBox, Loading } from '../components/common.js';

type EditorPage = FunctionComponent<{ id?: string }>;
let loaded: EditorPage | null = null;

export function LazyEditorPage(props: { id?: string }) {
  const [page, setPage] = useState<EditorPage | null>(() => loaded);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (loaded) return;
    import('../editor/editor-page.js').then((m) => {
      loaded = m.EditorPage;
      setPage(() => m.EditorPage);
    }, setError);
  }, []);
  if (error) return <ErrorBox error={error} />;
  const Page = page;
  return Page ? <Page {...props} /> : <Loading />;
}
