import { defineTable } from '../src/rules/types';

/** products → the product list of the product's category (old and new category on a move). */
export default defineTable({
  table: 'products',
  targets: [
    {
      key: 'master:products:category:{category_id}',
      family: 'master',
      action: 'refresh',
      loader: {
        sql:
          'SELECT product_id AS id, product_name AS name, brand_id, category_id FROM products ' +
          "WHERE category_id = {category_id} AND use_yn = 'Y' ORDER BY product_id",
      },
      why: 'active products of a category',
    },
  ],
});
