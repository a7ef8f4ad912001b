/**
 * The masker (src/secrets/mask.ts): a secret's value is cut out in each form it travels in by accident, as
 * docs/operations.md#secrets lists them: URL and form encoding (either escape case, `+` for a space), base64
 * and base64url (alone, and inside `user:secret` at each byte offset), JSON escaping, hex, other letter cases,
 * and in URLs (query and fragment values, path segments, userinfo) whole.
 */
import { describe, expect, it } from 'vitest';
import { MIN_ENCODED_SECRET, masker } from '../../src/secrets/index.js';

const TOKEN = 'S3cr3t-T0ken+/=xyz';
const m = masker(new Map([['API_TOKEN', TOKEN]]));
const b64 = (s: string, enc: 'base64' | 'base64url' = 'base64') => Buffer.from(s, 'utf8').toString(enc);
/** What no masked text may hold: the value in any of the forms below. */
const forms = (v: string) => [
  v,
  encodeURIComponent(v),
  encodeURIComponent(v).toLowerCase(),
  b64(v),
  b64(v).replace(/=+$/, ''),
  b64(v, 'base64url'),
  Buffer.from(v).toString('hex'),
  v.toUpperCase(),
];

describe('masking a secret in the forms it travels in', () => {
  it.each([
    ['as written', TOKEN],
    ['URL-encoded (encodeURIComponent)', encodeURIComponent(TOKEN)],
    ['URL-encoded with lower-case escapes', encodeURIComponent(TOKEN).toLowerCase()],
    ['form-encoded (URLSearchParams)', new URLSearchParams({ t: TOKEN }).toString().slice(2)],
    ['encodeURI', encodeURI(TOKEN)],
    ['base64', b64(TOKEN)],
    ['base64url', b64(TOKEN, 'base64url')],
    ['hex', Buffer.from(TOKEN).toString('hex')],
    ['HEX', Buffer.from(TOKEN).toString('hex').toUpperCase()],
    ['upper case', TOKEN.toUpperCase()],
    ['lower case', TOKEN.toLowerCase()],
    ['JSON-escaped with \\/', JSON.stringify(TOKEN).slice(1, -1).replace(/\//g, '\\/')],
  ])('%s', (_, encoded) => {
    const out = m.text(`before ${encoded} after`);
    expect(out).toBe('before [secret API_TOKEN] after');
  });

  it("form encoding writes a space as +, and RFC 3986 escapes !'()*", () => {
    const v = "it's (a) pass phrase!";
    const mm = masker(new Map([['P', v]]));
    expect(mm.text(`q=${new URLSearchParams({ q: v }).toString().slice(2)}`)).toBe('q=[secret P]');
    expect(mm.text(`q=${encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`)).toBe(
      'q=[secret P]',
    );
  });

  it('JSON-escaped: quotes, backslashes and non-ASCII as \\uXXXX', () => {
    const v = 'pa"ss\\wörd-1';
    const mm = masker(new Map([['P', v]]));
    expect(mm.text(JSON.stringify({ p: v }))).toBe('{"p":"[secret P]"}');
    expect(mm.text('{"p":"pa\\"ss\\\\w\\u00f6rd-1"}')).toBe('{"p":"[secret P]"}');
  });

  it('finds base64 of the value inside a longer encoded text at each byte offset (a Basic header), and leaves none of its characters', () => {
    for (const user of ['', 'u', 'us', 'use', 'user', 'admin@example.com']) {
      for (const enc of ['base64', 'base64url'] as const) {
        const header = `Basic ${b64(`${user}:${TOKEN}`, enc)}`;
        const out = m.text(header);
        expect(out, `${user} ${enc}`).toContain('[secret API_TOKEN]');
        // What is left decodes to the user at most, never a piece of the value.
        const left = out.replace('Basic ', '').replace('[secret API_TOKEN]', '');
        expect(Buffer.from(left, enc).toString('latin1')).not.toMatch(/S3c|xyz/);
      }
    }
    expect(m.text(`Basic ${b64(`${TOKEN}:`)}`)).toMatch(/^Basic \[secret API_TOKEN\].{0,3}$/);
  });

  it("cuts a URL's query value, fragment value, path segment or userinfo that holds the value, however it is encoded", () => {
    const form = new URLSearchParams({ t: TOKEN }).toString().slice(2);
    expect(m.text(`GET http://127.0.0.1:8080/404?token=${form} answered 404 Not Found`)).toBe(
      'GET http://127.0.0.1:8080/404?token=[secret API_TOKEN] answered 404 Not Found',
    );
    expect(m.text(`https://h/p?a=1&token=prefix-${form}&b=2`)).toBe('https://h/p?a=1&token=[secret API_TOKEN]&b=2');
    // WHATWG URL's userinfo encoding leaves + as it is and escapes / and =: neither URL encoder's form.
    const withUser = new URL('https://h/');
    withUser.username = 'bot';
    withUser.password = TOKEN;
    expect(m.text(withUser.href)).toBe('https://bot:[secret API_TOKEN]@h/');
    expect(m.text(`https://h/v1/${encodeURIComponent(TOKEN)}/items`)).toBe('https://h/v1/[secret API_TOKEN]/items');
    expect(m.text(`https://h/cb#access_token=${form}&x=1`)).toBe('https://h/cb#access_token=[secret API_TOKEN]&x=1');
    // Escapes written needlessly (%53 for S) are decoded too.
    expect(m.text(`https://h/?t=%53${form.slice(1)}`)).toBe('https://h/?t=[secret API_TOKEN]');
    expect(m.text('https://h/p?a=1&b=c#frag')).toBe('https://h/p?a=1&b=c#frag');
  });

  it('masks keys and nested values, and no masked output holds any form of the value', () => {
    const out = m.value({
      [TOKEN]: [encodeURIComponent(TOKEN), { auth: `Basic ${b64(`me:${TOKEN}`)}` }, b64(TOKEN)],
      n: 3,
    });
    const text = JSON.stringify(out);
    for (const f of forms(TOKEN)) expect(text).not.toContain(f);
    expect(out).toMatchObject({
      '[secret API_TOKEN]': [
        '[secret API_TOKEN]',
        { auth: expect.stringContaining('[secret API_TOKEN]') },
        '[secret API_TOKEN]',
      ],
      n: 3,
    });
  });

  it(`masks a value shorter than ${MIN_ENCODED_SECRET} characters only as written (its encodings are too short to tell from other text)`, () => {
    const short = masker(
      new Map([
        ['PIN', '1234'],
        ['E', ''],
      ]),
    );
    expect(short.size).toBe(1);
    expect(short.text('pin 1234, MTIzNA==, 31323334')).toBe('pin [secret PIN], MTIzNA==, 31323334');
    const word = masker(new Map([['W', 'abc']]));
    expect(word.text('abc ABC')).toBe('[secret W] ABC');
  });

  it('masks the longest value first, also in its encoded forms', () => {
    const two = masker(
      new Map([
        ['SHORT', 'secret-1'],
        ['LONG', 'secret-1-and-more'],
      ]),
    );
    expect(two.text(`${b64('secret-1-and-more')} ${encodeURIComponent('secret-1')}`)).toBe(
      '[secret LONG] [secret SHORT]',
    );
  });

  it('scans a long run of scheme characters once (a response body of `a.a.a.…` with a URL took 6 s a 100 KB)', () => {
    const body = `${'a.'.repeat(50_000)} https://h/?t=${encodeURIComponent(TOKEN)}`;
    const t0 = performance.now();
    expect(m.text(body).endsWith('https://h/?t=[secret API_TOKEN]')).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('leaves text with no secret as it is', () => {
    const text = 'Lorem ipsum https://example.com/a?b=c&d=%2B UzNj 5333 dolor';
    expect(m.text(text)).toBe(text);
  });
});
