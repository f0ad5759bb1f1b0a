export { bitWidthCells, bitWidthHeatmapSpec, bitWidthMapFromEvaluation, parseBitWidthMap, type BitWidthCell, type BitWidthMap } from './bit-width-map.js';
export { barsTable, markdownReport, resultsTable, sortByBits, type ReportDescription } from './markdown-report.js';
export { dominates, paretoFront, type ParetoPoint } from './pareto-front.js';
export { logarithmicFloor, paretoPlotSpec, symmetricLogTicks, type ParetoPlotOptions } from './pareto-plot.js';
export { renderPng, renderSvg } from './render-chart.js';
export { baselineBar, evaluateBars, evaluationBars, isQaqPreset, measurementSizeNote, presetBar, type BarResult, type BarVerdict } from './report-bars.js';
export {
  deltaPerplexity,
  methodFamily,
  parseReportRecord,
  reportRecordNumberFields,
  type FailedMethod,
  type ReportRecord,
} from './report-record.js';
export { reportFiles, writeEvaluationReport, type EvaluationReportInput } from './write-report.js';
