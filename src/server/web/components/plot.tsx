/** A uPlot chart in a Preact component: created on mount, rebuilt when the data or series change, destroyed on unmount. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export function Plot(props: {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  /** Bars at x = 0, 1, 2…, named by these labels (a category axis). */
  categories?: string[];
  yLabel?: string;
  /** The y axis's top, when it is known (100 for a percentage); bars always start at 0. */
  yMax?: number;
  width?: number;
  height?: number;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const cats = props.categories;
    const opts: uPlot.Options = {
      width: props.width ?? Math.max(320, Math.min(560, ref.current.clientWidth || 520)),
      height: props.height ?? 220,
      scales: {
        x: cats ? { time: false, range: [-0.5, cats.length - 0.5] } : { time: true },
        y: { range: (_u: uPlot, _min: number, max: number) => [0, props.yMax ?? (max > 0 ? max * 1.1 : 1)] },
      },
      series: [{}, ...props.series.map((s) => (cats ? { ...s, paths: uPlot.paths.bars!({ size: [0.7 / props.series.length, 60], align: 0 }) } : s))],
      axes: [
        cats ? { splits: () => cats.map((_, i) => i), values: (_u: uPlot, splits: number[]) => splits.map((i) => cats[i] ?? '') } : {},
        { label: props.yLabel ?? '', size: 56 },
      ],
      legend: { show: props.series.length > 1 },
    };
    const plot = new uPlot(opts, props.data, ref.current);
    return () => plot.destroy();
  }, [props.data, props.series, props.categories?.join('\u0000'), props.yMax]);
  return <div class="plot" ref={ref} />;
}
