/** The dashboard's entry: styles (uPlot's and ours, bundled into app.css) and the app mounted on #app. */
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { render } from 'preact';
import { App } from './app.js';

render(<App />, document.getElementById('app')!);
