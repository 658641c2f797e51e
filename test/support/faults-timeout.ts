// Fault-injection tests restart services and wait out outages.
jest.setTimeout(600_000);
