// What the page is showing, shared by its parts: the server's info, the open study, its last summary and trials.
export const state = {
  info: null,      // GET /api/info
  current: null,   // the open study's id (its folder name), or null
  summary: null,   // GET /api/studies/{id} of the open study
  trials: [],      // GET /api/studies/{id}/trials of the open study
};

/** The API path of the open study (ids are folder names: letters, digits, "._-"). */
export const studyPath = (id = state.current) => `/api/studies/${encodeURIComponent(id)}`;
