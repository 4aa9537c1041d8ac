// Static assets imported by the bundles (webpack's asset modules turn them into URLs).
declare module '*.svg' {
  const url: string;
  export default url;
}
