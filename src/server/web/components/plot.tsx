/**
 * A uPlot chart in a Preact component: created on mount, rebuilt when the data or series change, destroyed on unmount.
 * It takes its card's width; category names that would run into each other are turned (and long ones cut, whole in the
 * tooltip and the table below), never drawn over one another.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { categoryAxis } from '../plot-axis.js';

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
    const width = props.width ?? Math.max(320, ref.current.clientWidth || 520);
    const catAxis = cats ? categoryAxis(cats, width - 56 - 16) : null;
    const opts: uPlot.Options = {
      width,
      height: props.height ?? 220,
      scales: {
        x: cats ? { time: false, range: [-0.5, cats.length - 0.5] } : { time: true },
        y: { range: (_u: uPlot, _min: number, max: number) => [0, props.yMax ?? (max > 0 ? max * 1.1 : 1)] },
      },
      series: [
        {},
        ...props.series.map((s) =>
          cats ? { ...s, paths: uPlot.paths.bars!({ size: [0.7 / props.series.length, 60], align: 0 }) } : s,
        ),
      ],
      axes: [
        catAxis
          ? {
              splits: () => cats!.map((_, i) => i),
              values: (_u: uPlot, splits: number[]) => splits.map((i) => catAxis.labels[i] ?? ''),
              rotate: catAxis.rotate,
              size: catAxis.size,
              gap: 6,
            }
          : {},
        { label: props.yLabel ?? '', size: 56 },
      ],
      legend: { show: props.series.length > 1 },
    };
    const plot = new uPlot(opts, props.data, ref.current);
    return () => plot.destroy();
  }, [props.data, props.series, props.categories?.join('\u0000'), props.yMax]);
  return <div class="plot" ref={ref} />;
}
