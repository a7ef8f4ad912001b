/**
 * Bridge lines as seed 002 writes them and docs/bridge.md lists them: the
 * command each reads as, and the line:col of what does not read.
 */
import { describe, expect, it } from 'vitest';
import { parseBridgeLine } from '../../src/bridge/index.js';

describe('bridge lines', () => {
  it("reads seed 002's line, and the values a line may hold", () => {
    expect(parseBridgeLine('@workflow inventory-validation-v1 target_folder=0UT.3OX', 1)).toEqual({
      kind: 'workflow',
      ref: 'inventory-validation-v1',
      inputs: { target_folder: '0UT.3OX' },
    });
    expect(
      parseBridgeLine(
        `@workflow w@2 a="two words" b='it''s' n=5 ok=true tags=["a","b c"] m={"k":[1,2]} neg=-3 zero=007`,
        4,
      ),
    ).toEqual({
      kind: 'workflow',
      ref: 'w@2',
      inputs: { a: 'two words', b: "it's", n: 5, ok: true, tags: ['a', 'b c'], m: { k: [1, 2] }, neg: -3, zero: '007' },
    });
    expect(parseBridgeLine('  @status 20261125-abc  ', 1)).toEqual({ kind: 'status', runId: '20261125-abc' });
    expect(parseBridgeLine('@approve r1 alert_cmd_bridge known gap, fine', 1)).toEqual({
      kind: 'approve',
      runId: 'r1',
      taskId: 'alert_cmd_bridge',
      comment: 'known gap, fine',
    });
    expect(parseBridgeLine('@cancel r1', 1)).toEqual({ kind: 'cancel', runId: 'r1' });
    expect(parseBridgeLine('', 1)).toBeNull();
    expect(parseBridgeLine('   # a comment', 1)).toBeNull();
  });

  it('says where a line goes wrong, line:col, and why', () => {
    const err = (text: string) => {
      try {
        parseBridgeLine(text, 7);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err('workflow w')).toBe(
      'line 7:1: a bridge line starts with @workflow, @status, @approve or @cancel, not "workflow"',
    );
    expect(err('@start w')).toBe('line 7:1: unknown command @start: @workflow, @status, @approve or @cancel');
    expect(err('@workflow')).toBe('line 7:10: @workflow needs a workflow id: @workflow <workflowId> name=value …');
    expect(err('@workflow w folder')).toBe('line 7:13: an input is name=value, not "folder"');
    expect(err('@workflow w a=1 a=2')).toBe('line 7:17: input a is given twice');
    expect(err('@workflow w a="open')).toBe('line 7:15: the double quote here is never closed');
    expect(err('@workflow w tags=["a"')).toBe('line 7:18: the [ here is never closed');
    expect(err('@workflow w m={"a":}')).toMatch(/^line 7:15: not valid JSON: /);
    expect(err('@workflow w a=')).toBe('line 7:15: a value is missing after =; quote an empty one: name=""');
    expect(err('@status ../etc')).toBe('line 7:9: a run id is letters, digits, _ and - only, not "../etc"');
    expect(err('@status a b')).toBe('line 7:11: @status takes one run id');
    expect(err(`@workflow w a=${'x'.repeat(70_000)}`)).toMatch(
      /^line 7:1: the line is \d+ characters, over the limit of 65536$/,
    );
  });
});
