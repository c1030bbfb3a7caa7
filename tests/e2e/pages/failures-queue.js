window.tailor = window.tailor || [];
tailor.push(["on", "decision", () => { throw new Error("a host listener that throws"); }]);
tailor.push(["noSuchCommand", 1]);
tailor.push("not even an array");
