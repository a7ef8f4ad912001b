import { runTransform } from './dist/transform/index.js';
for (const js of ["const a = []; while (true) a.push(new Array(1000000).fill(a.length));", "const a = []; for (let i = 0; ; i++) a.push({ i, s: 'k' + i });"]) {
  const t = Date.now();
  const e = await runTransform('hog', { js }, {}).catch((e) => e);
  console.log(Date.now() - t, e.message);
}
