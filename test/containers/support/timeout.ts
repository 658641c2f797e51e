// Container tests start a whole stack per file and wait out outages.
jest.setTimeout(600_000);
