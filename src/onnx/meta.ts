/** metadata_props keys the exporter writes and the importer reads back (data spec, seed, exact normalisation). */
export const META = { data: 'goten.data', seed: 'goten.seed', norm: 'goten.norm', model: 'goten.model' } as const;
