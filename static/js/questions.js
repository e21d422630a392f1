/* The report form's questions: only those of the chosen category are shown and sent. Each
   category's questions are a fieldset; a disabled fieldset is neither shown nor sent. */
(function () {
  "use strict";
  var category = document.getElementById("category");
  var sets = document.querySelectorAll("fieldset.questions[data-category]");
  if (!category || !sets.length) { return; }

  function show() {
    for (var i = 0; i < sets.length; i++) {
      var chosen = sets[i].dataset.category === category.value;
      sets[i].hidden = !chosen;
      sets[i].disabled = !chosen;
    }
  }

  category.addEventListener("change", show);
  show();
})();
